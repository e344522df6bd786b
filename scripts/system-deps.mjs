#!/usr/bin/env node
// The tests talk to real peers, and some come from the system, not npm: OpenSSH's sshd (the
// @pool/ssh tests), openssl (test certificates), Chromium (the dashboard's browser test) and
// PgBouncer (the @pool/pg tests behind a bouncer in transaction mode) and redis-server (@pool/fleet).
// Installs the missing ones with apt-get when it can (root on Debian/Ubuntu), else says what to
// install and fails: a test whose peer cannot start must fail, never skip.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const missing = [];
if (!existsSync('/usr/sbin/sshd')) missing.push('openssh-server');
if (!has('openssl')) missing.push('openssl');
if (!existsSync('/usr/bin/chromium')) missing.push('chromium', 'fonts-dejavu-core');
if (!existsSync('/usr/sbin/pgbouncer')) missing.push('pgbouncer');
if (!existsSync('/usr/bin/redis-server')) missing.push('redis-server');
if (missing.length === 0) process.exit(0);

const isRoot = process.getuid?.() === 0;
if (!isRoot || !has('apt-get')) {
  console.error(`The tests need these system packages: ${missing.join(' ')}.`);
  console.error(`Install them (Debian/Ubuntu: sudo apt-get install -y ${missing.join(' ')}) and run the tests again.`);
  process.exit(1);
}
console.log(`Installing the system packages the tests need: ${missing.join(' ')}`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const run = (args) => spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env }).status === 0;
if (!run(['update', '-qq']) || !run(['install', '-y', '-qq', '--no-install-recommends', ...missing])) {
  console.error(`apt-get could not install ${missing.join(' ')}`);
  process.exit(1);
}
