// --log-format: JSON lines by default, one readable line per record with `text`.
import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { createLogger, isLogFormat } from '../../src/cli/logger.ts';

function capture(format: 'json' | 'text') {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  return { logger: createLogger({ level: 'info', format, destination: out }), text: () => text };
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

  it('accepts only json and text', () => {
    expect(isLogFormat('json')).to.equal(true);
    expect(isLogFormat('text')).to.equal(true);
    expect(isLogFormat('logfmt')).to.equal(false);
  });
});
