import ipaddr from "ipaddr.js";
import { CLIENT_IPV6_PREFIX_BITS } from "../defaults.js";

/**
 * The key a client's failed attempts are counted under: an IPv4 address as it is (an IPv4-mapped
 * IPv6 address as IPv4), an IPv6 address by its network prefix, since one client commonly holds a
 * whole /64 and could otherwise take a fresh budget from each address in it.
 */
export function clientKey(address: string | undefined): string {
  if (address === undefined || !ipaddr.isValid(address)) return address ?? "unknown";
  const parsed = ipaddr.process(address);
  if (parsed.kind() === "ipv4") return parsed.toString();
  const network = ipaddr.IPv6.networkAddressFromCIDR(`${parsed.toString()}/${CLIENT_IPV6_PREFIX_BITS}`);
  return `${network.toString()}/${CLIENT_IPV6_PREFIX_BITS}`;
}
