/** `host:port` (or `host` alone), bracketing IPv6 literals so the port stays readable and URLs parse. */
export function hostPort(host: string, port?: number): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return port === undefined ? h : `${h}:${port}`;
}
