// The testbed's images are served by its own registry on loopback, so CRI PullImage has a real
// pull path: every TESTBED_IMAGE_* resolves to a manifest whose config runs what it should.
import { expect } from 'chai';
import { testbed } from '../helpers/testbed.ts';

const manifestTypes = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'].join(', ');

async function imageConfig(image: string): Promise<{ config: { Entrypoint?: string[]; Cmd?: string[] }; os: string; architecture: string }> {
  const m = /^([^/]+)\/(.+):([^:/]+)$/.exec(image);
  if (!m) throw new Error(`cannot parse image reference ${image}`);
  const [, host, repo, tag] = m;
  const manifest = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { headers: { accept: manifestTypes } });
  expect(manifest.status, `${image} manifest`).to.equal(200);
  const body = (await manifest.json()) as { config: { digest: string }; layers: unknown[] };
  expect(body.layers.length).to.be.greaterThan(0);
  const cfg = await fetch(`http://${host}/v2/${repo}/blobs/${body.config.digest}`);
  expect(cfg.status, `${image} config blob`).to.equal(200);
  return (await cfg.json()) as { config: { Entrypoint?: string[]; Cmd?: string[] }; os: string; architecture: string };
}

describe('testbed: images in the local registry', function () {
  const tb = testbed();

  it('serves the registry on loopback only', function () {
    expect(tb.registry).to.match(/^127\.0\.0\.1:\d+$/);
    for (const image of Object.values(tb.images)) expect(image.startsWith(`${tb.registry}/`)).to.equal(true);
  });

  it('serves busybox with a shell as its command', async function () {
    const c = await imageConfig(tb.images.busybox);
    expect(c.os).to.equal('linux');
    expect(c.config.Cmd).to.deep.equal(['sh']);
  });

  it('serves the pause image the containerd sandbox_image names', async function () {
    const c = await imageConfig(tb.images.pause);
    expect(c.config.Entrypoint).to.deep.equal(['/pause']);
  });

  it('serves agnhost with /agnhost as its entrypoint', async function () {
    const c = await imageConfig(tb.images.agnhost);
    expect(c.config.Entrypoint).to.deep.equal(['/agnhost']);
    expect(c.config.Cmd).to.deep.equal(['pause']);
  });
});
