// fsGroup ownership as upstream's SetVolumeOwnership: every file and directory of the volume gets
// the fsGroup as its group, files gain g+r (g+rw when writable), directories also g+x and setgid
// so new files inherit the group. Symlinks are re-grouped but not followed.
import { chmod, chown, lchown, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export async function setVolumeOwnership(dir: string, fsGroup: number, readOnly: boolean): Promise<void> {
  const walk = async (p: string): Promise<void> => {
    const st = await lstat(p);
    if (st.isSymbolicLink()) {
      await lchown(p, -1, fsGroup);
      return;
    }
    await chown(p, -1, fsGroup);
    let mask = readOnly ? 0o440 : 0o660;
    if (st.isDirectory()) mask |= 0o110 | 0o2000;
    await chmod(p, (st.mode & 0o7777) | mask);
    if (st.isDirectory()) for (const e of await readdir(p)) await walk(join(p, e));
  };
  await walk(dir);
}
