/**
 * The peer's IP as uWS gives it (`getRemoteAddressAsText()`), in the form Node and the other
 * backends use: uWS writes IPv6 in full (`0000:0000:0000:0000:0000:0000:0000:0001`), Node
 * compresses it (`::1`), as RFC 5952 recommends. `''` when uWS does not know it.
 */
export function peerText(text: ArrayBuffer): string {
  const address = Buffer.from(text).toString('latin1');
  if (!address.includes(':')) return address;
  // The WHATWG URL parser serializes an IPv6 host in RFC 5952's canonical form.
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}
