// --log-format: JSON lines by default, one readable line per record with `text`.
import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { agentLogger, isLogFormat } from '../../src/agent/logger.ts';
import { register, release } from '../../src/runtime/secret-values.ts';

function capture(format: 'json' | 'text') {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  return { logger: agentLogger({ level: 'info', format, destination: out }), text: () => text };
}

describe('the agent log format (--log-format)', () => {
  it('json: one JSON object per line with the level, message and fields', async () => {
    const c = capture('json');
    c.logger.info({ pod: 'default/web' }, 'pod started');
    c.logger.debug('not at info');
    await new Promise((r) => setImmediate(r));
    const lines = c.text().trim().split('\n');
    expect(lines).to.have.length(1);
    expect(JSON.parse(lines[0])).to.include({ level: 30, msg: 'pod started', pod: 'default/web', component: 'ledgerlet' });
  });

  it('text: a single line per record, level first, no timestamp (journald adds one), fields kept', async () => {
    const c = capture('text');
    c.logger.warn({ pod: 'default/web', detail: { a: 1 } }, 'probe failed');
    await new Promise((r) => setImmediate(r));
    const lines = c.text().trim().split('\n');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^WARN.*probe failed/);
    expect(lines[0]).to.contain('default/web');
    expect(lines[0]).to.not.match(/\d{2}:\d{2}:\d{2}|"time"|"level"/);
  });

  for (const format of ['json', 'text'] as const) {
    it(`${format}: registered secret values and credential fields never reach the output`, async () => {
      register('test/logger', ['s3cr3t-value-for-logs']);
      try {
        const c = capture(format);
        c.logger.error({ err: 'exec /bin/s3cr3t-value-for-logs: not found', password: 'hunter2-hunter2' }, 'start failed with s3cr3t-value-for-logs');
        await new Promise((r) => setImmediate(r));
        expect(c.text()).to.contain('start failed');
        expect(c.text()).to.not.contain('s3cr3t-value-for-logs');
        expect(c.text()).to.not.contain('hunter2-hunter2');
      } finally {
        release('test/logger');
      }
    });
  }

  it('accepts only json and text', () => {
    expect(isLogFormat('json')).to.equal(true);
    expect(isLogFormat('text')).to.equal(true);
    expect(isLogFormat('logfmt')).to.equal(false);
  });
});
