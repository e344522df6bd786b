import type tls from 'node:tls';

/**
 * The names a node's `tls` object may use: every `tls.connect` option (the `Record` makes the
 * compiler keep the list in step with Node's types), plus the `net.connect` socket options
 * `tls.connect` also takes. A misspelled name (`rejectUnauthorised`, `serverName`) is refused,
 * naming the nearest, instead of being ignored.
 */
const TLS_CONNECT: Record<keyof tls.ConnectionOptions, true> = {
  host: true, port: true, path: true, socket: true, checkServerIdentity: true, servername: true, session: true,
  minDHSize: true, lookup: true, timeout: true, pskCallback: true, ALPNCallback: true, allowPartialTrustChain: true,
  ca: true, cert: true, sigalgs: true, ciphers: true, clientCertEngine: true, crl: true, dhparam: true, ecdhCurve: true,
  honorCipherOrder: true, key: true, privateKeyEngine: true, privateKeyIdentifier: true, maxVersion: true,
  minVersion: true, passphrase: true, pfx: true, secureOptions: true, secureProtocol: true, sessionIdContext: true,
  ticketKeys: true, sessionTimeout: true, secureContext: true, enableTrace: true, requestCert: true,
  ALPNProtocols: true, SNICallback: true, rejectUnauthorized: true,
};

const NET_CONNECT = ['family', 'hints', 'localAddress', 'localPort', 'autoSelectFamily', 'autoSelectFamilyAttemptTimeout', 'signal'];

export const TLS_OPTION_NAMES: ReadonlySet<string> = new Set([...Object.keys(TLS_CONNECT), ...NET_CONNECT]);
