// Secrets a client may send (a token in a query, after a PDUDaemon hostname, in an Authorization header)
// never reach a log line: every gateway log line that quotes client input goes through here.

/** `token=…` (query or `pdu1&token=…`) and `Bearer …` with the secret replaced by `***`. */
export function redactSecrets(text: string): string {
  return text.replace(/(token=)[^&\s"]*/gi, "$1***").replace(/(bearer\s+)\S+/gi, "$1***");
}
