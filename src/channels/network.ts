/**
 * Where outbound requests may go. Webhook URLs are written by workspace admins, so without a policy a
 * URL could reach the server's own network (`http://127.0.0.1:5432`, a cloud metadata address): requests
 * to private, loopback, link-local and other non-public addresses are refused unless the workspace
 * explicitly allows its private network.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';

const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['2001:db8::', 32],
  ['64:ff9b::', 96],
] as const)
  blocked.addSubnet(net, bits, 'ipv6');

/** Whether an IP address (v4 or v6, including v4-mapped v6) is outside the public internet. */
export function isPrivateAddress(ip: string): boolean {
  const v = isIP(ip);
  if (v === 4) return blocked.check(ip, 'ipv4');
  if (v !== 6) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return blocked.check(mapped[1]!, 'ipv4');
  return blocked.check(ip, 'ipv6');
}

/** Name resolution: every address a host name has (tests inject one that points a name at loopback). */
export type Resolve = (host: string) => Promise<{ address: string; family: number }[]>;

/** The system's resolver (getaddrinfo, as connections use it): every address of the name. */
export const systemResolve: Resolve = (host) => dnsLookup(host, { all: true });

/** The outcome of resolving an outbound request's host: the address to connect to, or why not. */
export type Destination =
  | { ok: true; address: string; family: number; lookup: LookupFunction }
  | { ok: false; retryable: boolean; reason: string };

/**
 * Resolves `host` (an IP literal resolves to itself) and refuses it when any of its addresses is
 * private or loopback, unless `allowPrivateNetwork`. The `lookup` it returns pins a connection to the
 * checked address, so a name that resolves differently a moment later (DNS rebinding) cannot move the
 * request inside. A name that does not resolve may resolve later (a DNS outage), so that is retryable.
 */
export async function destination(
  host: string,
  resolve: Resolve,
  allowPrivateNetwork: boolean,
): Promise<Destination> {
  let addresses: { address: string; family: number }[];
  const literal = isIP(host);
  if (literal !== 0) addresses = [{ address: host, family: literal }];
  else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      return { ok: false, retryable: true, reason: `cannot resolve ${host}: ${(err as Error).message}` };
    }
  }
  const target = addresses[0];
  if (target === undefined) return { ok: false, retryable: true, reason: `${host} resolves to no address` };
  if (!allowPrivateNetwork) {
    const inside = addresses.find((a) => isPrivateAddress(a.address));
    if (inside)
      return {
        ok: false,
        retryable: false,
        reason: `blocked: ${host} resolves to ${inside.address}, a private or loopback address`,
      };
  }
  const lookup: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all)
      callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  return { ok: true, address: target.address, family: target.family, lookup };
}
