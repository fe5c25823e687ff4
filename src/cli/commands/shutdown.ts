// `ledgerlet shutdown`: announce a graceful node shutdown to the running agent through its local
// socket, where no systemd-logind does (upstream waits for logind's PrepareForShutdown). The agent
// logs it, turns Ready False and stops the pods by priority group within shutdownGracePeriod.
import type { Command } from 'commander';
import { request } from 'node:http';
import { join } from 'node:path';
import { LOCAL_API_SOCKET } from '../../postmortem/local-api.ts';

export function register(program: Command): void {
  program
    .command('shutdown')
    .description('announce a graceful node shutdown to the running agent: Ready turns False, pods stop, lowest priority first, within shutdownGracePeriod')
    .option('--root-dir <dir>', "the agent's root directory (its socket is <dir>/ledgerlet.sock)", '/var/lib/kubelet')
    .action(async (flags: { rootDir: string }) => {
      const socketPath = join(flags.rootDir, LOCAL_API_SOCKET);
      try {
        const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = request({ socketPath, path: '/shutdown', method: 'POST' }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          });
          req.on('error', reject);
          req.end();
        });
        if (status === 200) {
          console.log(`node shutdown announced (log entry #${(JSON.parse(body) as { seq?: number }).seq ?? '?'})`);
          return;
        }
        console.error(`ledgerlet shutdown: the agent refused: ${body}`);
        process.exitCode = 1;
      } catch (e) {
        console.error(`ledgerlet shutdown: cannot reach the agent at ${socketPath}: ${(e as Error).message}`);
        process.exitCode = 1;
      }
    });
}
