import type { LookupAddress, LookupAllOptions, LookupOneOptions } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Resolves a host name to its addresses (dns.lookup by default; tests pass their own). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );

/** Why a URL may not be used; the message is shown to the operator. */
export class UnsafeUrlError extends Error {
  override name = 'UnsafeUrlError';
}

/**
 * Whether an address is an ordinary public one: loopback, private, link-local, unique-local,
 * carrier-grade NAT, multicast, unspecified, reserved and the IPv6 forms that embed an IPv4
 * address (IPv4-compatible, SIIT, 6to4, Teredo, NAT64) are not. IPv4-mapped IPv6 counts as the IPv4 address it maps.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  // IPv4-compatible IPv6 (::/96, `::7f00:1` is 127.0.0.1), deprecated since RFC 4291 and a
  // range ipaddr.js calls unicast: no public service needs it, so none of it is public.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).match(IPV4_COMPATIBLE)) return false;
  return parsed.range() === 'unicast';
}

const IPV4_COMPATIBLE = ipaddr.IPv6.parseCIDR('::/96');

/** The host of a URL as net.connect sees it: brackets of an IPv6 literal removed. */
export const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/** A parsed http(s) URL, or an UnsafeUrlError saying why not. */
export function parseWebhookUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UnsafeUrlError('the URL is not valid');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UnsafeUrlError('the URL must start with http:// or https://');
  }
  return url;
}

/**
 * Checks where a URL points, after DNS resolution: every address of the host must be public
 * unless private ones are allowed. Run when a subscription is saved; deliveries check again
 * inside the connection's own lookup (safeLookup), so the address checked is the one used.
 */
export async function checkWebhookUrl(text: string, options: { allowPrivate: boolean; resolve: Resolver }) {
  const url = parseWebhookUrl(text);
  if (options.allowPrivate) return url;
  const host = hostOf(url);
  if (isIP(host)) {
    if (!isPublicAddress(host)) throw new UnsafeUrlError(`${host} is a loopback, private or link-local address`);
    return url;
  }
  let addresses: LookupAddress[];
  try {
    addresses = await withTimeout(options.resolve(host), 5_000);
  } catch {
    throw new UnsafeUrlError(`the host ${host} could not be resolved`);
  }
  refuseUnsafe(host, addresses);
  return url;
}

function refuseUnsafe(host: string, addresses: readonly LookupAddress[]) {
  if (addresses.length === 0) throw new UnsafeUrlError(`the host ${host} has no address`);
  const bad = addresses.find((a) => !isPublicAddress(a.address));
  if (bad) throw new UnsafeUrlError(`${host} resolves to ${bad.address}, a loopback, private or link-local address`);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request / net.connect that resolves the host, refuses the connection when
 * any address is not public (unless allowed), and hands the checked addresses to the socket: no
 * second resolution can slip another address in between (DNS rebinding).
 */
export function safeLookup(options: { allowPrivate: boolean; resolve: Resolver }) {
  return (hostname: string, lookupOptions: LookupOneOptions | LookupAllOptions, callback: LookupCallback) => {
    options.resolve(hostname).then(
      (found) => {
        const family = lookupOptions.family;
        const addresses = family === 4 || family === 6 ? found.filter((a) => a.family === family) : found.slice();
        try {
          if (!options.allowPrivate) refuseUnsafe(hostname, addresses);
          if (addresses.length === 0) throw new UnsafeUrlError(`the host ${hostname} has no address`);
        } catch (error) {
          callback(error as NodeJS.ErrnoException, '');
          return;
        }
        const first = addresses[0] as LookupAddress;
        if (lookupOptions.all) callback(null, addresses);
        else callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };
}
