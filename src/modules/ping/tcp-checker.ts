/**
 * tcp:// checks (a connection to host:port, optionally a verified TLS handshake on it)
 * and tls:// checks (the certificate served there: expiry, chain, hostname). Both dial
 * through openGuarded, so the SSRF guard sees the address actually dialled.
 */
import { checkServerIdentity, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { DnsCache } from '@/modules/dns/dns-cache';
import { fail, Outcome, resultOf, underDeadline } from './check-deadline';
import type { CertificateFacts, CheckResult, CheckTarget } from './check-result';
import { endpointOf, type TcpCheckSpec, type TlsCheckSpec } from './check-spec';
import { ConnectorDeps, ConnectTimings, openGuarded } from './guarded-connector';

const DAY_MS = 86_400_000;
// Node reports a name mismatch through authorizationError too; the hostname option judges it.
const NAME_MISMATCH = 'ERR_TLS_CERT_ALTNAME_INVALID';
const EXPIRED = 'CERT_HAS_EXPIRED';

export class SocketChecker {
  constructor(private readonly deps: ConnectorDeps) {}

  static of(dns: DnsCache, allowPrivate: boolean, ca?: ConnectorDeps['ca']): SocketChecker {
    return new SocketChecker({ dns, allowPrivate, ...(ca ? { ca } : {}) });
  }

  async tcp(target: CheckTarget, spec: TcpCheckSpec, cancel?: AbortSignal): Promise<CheckResult> {
    const timings: ConnectTimings = {};
    const t = await underDeadline(target.timeoutMs, cancel, async (signal) => {
      const at = endpointOf('tcp', target.url);
      if (!at) return fail('BLOCKED', `not a tcp://host:port target: ${target.url}`);
      const tls = spec.tls ? { tls: { verify: true } } : {};
      const socket = await openGuarded(this.deps, { signal, timings }, { ...at, ...tls });
      socket.destroy();
      return { ok: true };
    });
    const certificate =
      timings.certificateValidTo === undefined
        ? undefined
        : facts(timings.certificateValidTo, t.checkedAt);
    return resultOf(t, timings, certificate ? { certificate } : {});
  }

  async tls(target: CheckTarget, spec: TlsCheckSpec, cancel?: AbortSignal): Promise<CheckResult> {
    const timings: ConnectTimings = {};
    let certificate: CertificateFacts | undefined;
    const t = await underDeadline(target.timeoutMs, cancel, async (signal) => {
      const at = endpointOf('tls', target.url);
      if (!at) return fail('BLOCKED', `not a tls://host[:port] target: ${target.url}`);
      const dialled: Socket = await openGuarded(
        this.deps,
        { signal, timings },
        { ...at, tls: { verify: false } },
      );
      const socket = dialled as TLSSocket;
      try {
        const judged = judge(socket, at.host, spec, Date.now());
        certificate = judged.certificate;
        return judged.outcome;
      } finally {
        socket.destroy();
      }
    });
    return resultOf(t, timings, certificate ? { certificate } : {});
  }
}

/** The certificate against the tls spec: expiry, chain, name, then the day thresholds. */
function judge(
  socket: TLSSocket,
  host: string,
  spec: TlsCheckSpec,
  now: number,
): { outcome: Outcome; certificate?: CertificateFacts } {
  // The leaf alone (not the detailed chain): the chain was judged by the handshake.
  const cert: PeerCertificate | undefined = socket.getPeerCertificate(false);
  const validTo = cert?.valid_to ? Date.parse(cert.valid_to) : NaN;
  if (!cert || !Number.isFinite(validTo)) {
    return { outcome: fail('TLS', 'the server presented no certificate') };
  }
  const certificate = facts(validTo, now);
  const judged = (outcome: Outcome) => ({ outcome, certificate });
  if (validTo <= now) {
    return judged(fail('TLS', `certificate expired on ${new Date(validTo).toISOString()}`));
  }
  const validFrom = Date.parse(cert.valid_from);
  if (Number.isFinite(validFrom) && validFrom > now) {
    return judged(fail('TLS', `certificate not valid before ${new Date(validFrom).toISOString()}`));
  }
  const chainError = socket.authorized ? undefined : String(socket.authorizationError ?? '');
  if (spec.checkChain && chainError && chainError !== NAME_MISMATCH && chainError !== EXPIRED) {
    return judged(fail('TLS', `certificate chain not trusted: ${chainError}`));
  }
  if (spec.checkHostname) {
    const mismatch = checkServerIdentity(host, cert);
    if (mismatch)
      return judged(fail('TLS', `certificate does not match ${host}: ${mismatch.message}`));
  }
  if (certificate.daysLeft < spec.downDays) {
    return judged(
      fail(
        'TLS',
        `certificate expires in ${certificate.daysLeft} days (DOWN below ${spec.downDays})`,
      ),
    );
  }
  certificate.warning = certificate.daysLeft < spec.warnDays;
  return judged({ ok: true });
}

export function facts(validTo: number, now: number): CertificateFacts {
  return { validTo, daysLeft: Math.floor((validTo - now) / DAY_MS) };
}
