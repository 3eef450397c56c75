/**
 * OpenCode session ids (`ses_` + 12 hex digits of time + 14 base62 characters, e.g.
 * `ses_39b623ce7ffeILPe9UgDcyGicH`) hold `_` and capitals, which git-lore's session ids do not
 * (the format allows `[0-9a-z][0-9a-z-]{3,80}`, docs/FORMAT.md; commands take hex prefixes). The
 * source names such a session `<the 12 hex digits>-<the 14 base62 characters as a number, in 21 hex
 * digits>`: `ses_39b623ce7ffeILPe9UgDcyGicH` is `39b623ce7ffe-3091169137c179b18f6b5`. So the
 * prefix a user sees after `ses_` in OpenCode finds the session in git-lore, every machine names
 * it alike, and restore and resume get OpenCode's id back. An id of another shape (base62 after
 * `ses_`, at most 38 characters) is named `0c-<its characters after ses_ in hex>`. The format's
 * shard (the last two characters) comes from the random part either way.
 */

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const USUAL = /^ses_([0-9a-f]{12})([0-9A-Za-z]{14})$/;
const OTHER = /^ses_([0-9A-Za-z]{1,38})$/;
const LORE_USUAL = /^([0-9a-f]{12})-([0-9a-f]{21})$/;
const LORE_OTHER = /^0c-((?:[0-9a-f]{2}){1,38})$/;

/** The git-lore id of an OpenCode session id; null for an id of another shape (not captured). */
export function loreIdOf(nativeId: string): string | null {
  const m = USUAL.exec(nativeId);
  if (m) {
    let n = 0n;
    for (const ch of m[2]!) n = n * 62n + BigInt(B62.indexOf(ch));
    return `${m[1]}-${n.toString(16).padStart(21, '0')}`;
  }
  const o = OTHER.exec(nativeId);
  return o ? `0c-${Buffer.from(o[1]!, 'latin1').toString('hex')}` : null;
}

/** The OpenCode id of a git-lore id made by loreIdOf; null for any other id. */
export function nativeIdOf(loreId: string): string | null {
  let id: string | null = null;
  const m = LORE_USUAL.exec(loreId);
  if (m) {
    let n = BigInt(`0x${m[2]}`);
    let tail = '';
    for (let i = 0; i < 14; i++) {
      tail = B62[Number(n % 62n)]! + tail;
      n /= 62n;
    }
    id = n === 0n ? `ses_${m[1]}${tail}` : null;
  } else {
    const o = LORE_OTHER.exec(loreId);
    if (o) id = `ses_${Buffer.from(o[1]!, 'hex').toString('latin1')}`;
  }
  // Only the one spelling loreIdOf makes.
  return id !== null && loreIdOf(id) === loreId ? id : null;
}
