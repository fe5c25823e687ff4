import { expect } from 'chai';
import { EffectRunner } from '../../src/runtime/effect-runner.ts';

describe('effect runner', () => {
  it('given a limit of one, when a waiting effect runs unlimited, then other keys still make progress', async () => {
    const runner = new EffectRunner(1);
    let releaseTimer!: () => void;
    const order: string[] = [];
    runner.run('timer/1', () => new Promise<void>((r) => { releaseTimer = () => { order.push('timer'); r(); }; }), false);
    runner.run('pod-a', async () => { order.push('a'); });
    runner.run('pod-b', async () => { order.push('b'); });
    await new Promise((r) => setTimeout(r, 10));
    expect(order).to.deep.equal(['a', 'b']);
    releaseTimer();
    await runner.idle();
    expect(order).to.deep.equal(['a', 'b', 'timer']);
  });

  it('limited work beyond the limit waits for a slot, and one key stays in order', async () => {
    const runner = new EffectRunner(1);
    const order: string[] = [];
    let release!: () => void;
    runner.run('k1', () => new Promise<void>((r) => { release = () => { order.push('k1-first'); r(); }; }));
    runner.run('k1', async () => { order.push('k1-second'); });
    runner.run('k2', async () => { order.push('k2'); });
    await new Promise((r) => setTimeout(r, 10));
    expect(order).to.deep.equal([]);
    release();
    await runner.idle();
    expect(order[0]).to.equal('k1-first');
    expect(order.indexOf('k1-second')).to.be.greaterThan(0);
    expect(order).to.have.members(['k1-first', 'k1-second', 'k2']);
  });
});
