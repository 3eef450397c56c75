/**
 * Credentials in addresses never reach any output. An address such as
 * `https://user:token@host/repo` keeps its user name and loses the password; an `http(s)` or
 * `ftp(s)` address with only a user name loses that too (hosts take a token as the user name).
 * Used by the error family (messages and hints), the debug log writer and the CLI's sinks.
 */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#'"<>`]*)@/gi;

/** `text` with the credentials of every URL in it replaced by `***`. */
export function redactCredentials(text: string): string {
  if (!text.includes('@')) return text;
  return text.replace(USERINFO, (_all, scheme: string, info: string) => {
    const colon = info.indexOf(':');
    if (colon >= 0) return `${scheme}${info.slice(0, colon)}:***@`;
    return /^(https?|ftps?):\/\/$/i.test(scheme) ? `${scheme}***@` : `${scheme}${info}@`;
  });
}
