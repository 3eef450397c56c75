/**
 * git's C-style path quoting, undone. Where git has no NUL-separated output (`git blame
 * --porcelain`'s `filename` line, a patch's `+++ b/<path>` line), it prints a path with
 * "unusual" bytes (control characters, `"`, `\`, and bytes >= 0x80 unless core.quotePath=false)
 * between double quotes with C escapes (`\t`, `\n`, `\"`, `\\`, `\303\251`). Unquoting is exact.
 */

const ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

/**
 * The path a git output field names: a quoted field is unquoted to its bytes (decoded as UTF-8),
 * an unquoted one is returned as it is. Throws on a malformed quoted field (an unknown escape or
 * no closing quote), which git never prints.
 */
export function unquotePath(field: string): string {
  if (!field.startsWith('"')) return field;
  if (field.length < 2 || !field.endsWith('"')) throw new SyntaxError(`unterminated quoted path: ${JSON.stringify(field)}`);
  const body = Buffer.from(field.slice(1, -1), 'utf8');
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== 92) {
      if (c === 34) throw new SyntaxError(`unescaped quote in a quoted path: ${JSON.stringify(field)}`);
      out.push(c);
      continue;
    }
    const next = body[++i];
    if (next === undefined) throw new SyntaxError(`dangling backslash in a quoted path: ${JSON.stringify(field)}`);
    if (next >= 48 && next <= 51) {
      const oct = body.subarray(i, i + 3).toString('latin1');
      if (!/^[0-3][0-7]{2}$/.test(oct)) throw new SyntaxError(`bad octal escape in a quoted path: ${JSON.stringify(field)}`);
      out.push(parseInt(oct, 8));
      i += 2;
      continue;
    }
    const byte = ESCAPES[String.fromCharCode(next)];
    if (byte === undefined) throw new SyntaxError(`unknown escape \\${String.fromCharCode(next)} in a quoted path: ${JSON.stringify(field)}`);
    out.push(byte);
  }
  return Buffer.from(out).toString('utf8');
}
