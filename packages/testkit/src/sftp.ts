import * as fs from 'node:fs';
import { join, posix } from 'node:path';
import ssh2 from 'ssh2';
import type { SFTPWrapper } from 'ssh2';

const { STATUS_CODE, flagsToString } = ssh2.utils.sftp;

/** A small SFTP v3 server over a real directory: enough for open/read/write/stat/readdir/rename/remove. */
export function serveSftp(sftp: SFTPWrapper, root: string): void {
  const handles = new Map<number, { fd: number } | { dir: string; done: boolean }>();
  let nextHandle = 1;
  const resolvePath = (path: string) => join(root, posix.resolve('/', path));
  const newHandle = (value: { fd: number } | { dir: string; done: boolean }) => {
    const id = nextHandle++;
    handles.set(id, value);
    const buffer = Buffer.alloc(4);
    buffer.writeUInt32BE(id);
    return buffer;
  };
  const handleOf = (buffer: Buffer) => (buffer.length === 4 ? handles.get(buffer.readUInt32BE(0)) : undefined);
  const attrsOf = (stats: fs.Stats) => ({
    mode: stats.mode, uid: stats.uid, gid: stats.gid, size: stats.size,
    atime: Math.floor(stats.atimeMs / 1000), mtime: Math.floor(stats.mtimeMs / 1000),
  });
  const guard = (reqid: number, action: () => void) => {
    try {
      action();
    } catch (error) {
      const code = (error as { code?: string }).code;
      sftp.status(reqid, code === 'ENOENT' ? STATUS_CODE.NO_SUCH_FILE
        : code === 'EACCES' ? STATUS_CODE.PERMISSION_DENIED : STATUS_CODE.FAILURE);
    }
  };
  sftp.on('OPEN', (reqid, filename, flags) => guard(reqid, () => {
    const mode = flagsToString(flags) ?? 'r';
    sftp.handle(reqid, newHandle({ fd: fs.openSync(resolvePath(filename), mode) }));
  }));
  sftp.on('READ', (reqid, handle, offset, length) => guard(reqid, () => {
    const entry = handleOf(handle);
    if (entry === undefined || !('fd' in entry)) return sftp.status(reqid, STATUS_CODE.FAILURE);
    const buffer = Buffer.alloc(length);
    const read = fs.readSync(entry.fd, buffer, 0, length, offset);
    if (read === 0) return sftp.status(reqid, STATUS_CODE.EOF);
    sftp.data(reqid, buffer.subarray(0, read));
  }));
  sftp.on('WRITE', (reqid, handle, offset, data) => guard(reqid, () => {
    const entry = handleOf(handle);
    if (entry === undefined || !('fd' in entry)) return sftp.status(reqid, STATUS_CODE.FAILURE);
    fs.writeSync(entry.fd, data, 0, data.length, offset);
    sftp.status(reqid, STATUS_CODE.OK);
  }));
  sftp.on('CLOSE', (reqid, handle) => guard(reqid, () => {
    const entry = handleOf(handle);
    if (entry === undefined) return sftp.status(reqid, STATUS_CODE.FAILURE);
    handles.delete(handle.readUInt32BE(0));
    if ('fd' in entry) fs.closeSync(entry.fd);
    sftp.status(reqid, STATUS_CODE.OK);
  }));
  sftp.on('FSTAT', (reqid, handle) => guard(reqid, () => {
    const entry = handleOf(handle);
    if (entry === undefined || !('fd' in entry)) return sftp.status(reqid, STATUS_CODE.FAILURE);
    sftp.attrs(reqid, attrsOf(fs.fstatSync(entry.fd)));
  }));
  const stat = (reqid: number, path: string) => guard(reqid, () => sftp.attrs(reqid, attrsOf(fs.statSync(resolvePath(path)))));
  sftp.on('STAT', stat);
  sftp.on('LSTAT', stat);
  sftp.on('REALPATH', (reqid, path) => {
    const resolved = posix.resolve('/', path);
    sftp.name(reqid, [{ filename: resolved, longname: resolved, attrs: {} as never }]);
  });
  sftp.on('OPENDIR', (reqid, path) => guard(reqid, () => {
    if (!fs.statSync(resolvePath(path)).isDirectory()) return sftp.status(reqid, STATUS_CODE.FAILURE);
    sftp.handle(reqid, newHandle({ dir: resolvePath(path), done: false }));
  }));
  sftp.on('READDIR', (reqid, handle) => guard(reqid, () => {
    const entry = handleOf(handle);
    if (entry === undefined || !('dir' in entry)) return sftp.status(reqid, STATUS_CODE.FAILURE);
    if (entry.done) return sftp.status(reqid, STATUS_CODE.EOF);
    entry.done = true;
    sftp.name(reqid, fs.readdirSync(entry.dir).map((name) => ({
      filename: name, longname: name, attrs: attrsOf(fs.statSync(join(entry.dir, name))),
    })));
  }));
  sftp.on('REMOVE', (reqid, path) => guard(reqid, () => { fs.unlinkSync(resolvePath(path)); sftp.status(reqid, STATUS_CODE.OK); }));
  sftp.on('MKDIR', (reqid, path) => guard(reqid, () => { fs.mkdirSync(resolvePath(path)); sftp.status(reqid, STATUS_CODE.OK); }));
  sftp.on('RMDIR', (reqid, path) => guard(reqid, () => { fs.rmdirSync(resolvePath(path)); sftp.status(reqid, STATUS_CODE.OK); }));
  sftp.on('RENAME', (reqid, from, to) => guard(reqid, () => {
    fs.renameSync(resolvePath(from), resolvePath(to));
    sftp.status(reqid, STATUS_CODE.OK);
  }));
  // ssh2 leaves answering the client's close of an SFTP channel to us (sshd does it by itself).
  sftp.on('end', () => sftp.end());
  sftp.on('close', () => {
    for (const entry of handles.values()) if ('fd' in entry) fs.closeSync(entry.fd);
    handles.clear();
  });
}
