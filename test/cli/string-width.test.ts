import { test } from 'node:test';
import assert from 'node:assert/strict';
import stringWidth from '../../src/cli/string-width.js';

/**
 * Our stand-in for the `string-width` package (src/cli/string-width.ts, aliased into the bundle)
 * answers as the package does on what git-lore prints: help text, session titles, paths.
 */
const cases: Array<[string, string, number]> = [
  ['empty', '', 0],
  ['ASCII', 'git lore sessions', 17],
  ['ANSI colours are not counted', '\u001b[1;31mred\u001b[0m text', 8],
  ['an OSC hyperlink is not counted', '\u001b]8;;https://x.y\u0007link\u001b]8;;\u0007', 4],
  ['CJK ideographs are two columns', '日本語', 6],
  ['Hangul syllables are two columns', '한국어', 6],
  ['fullwidth forms are two columns', 'ＡＢ', 4],
  ['an emoji is two columns', 'ok 🎉', 5],
  ['combining marks take no column', 'e\u0301te\u0301', 3],
  ['zero-width space and BOM take no column', 'a\u200bb\ufeff', 2],
  ['control characters take no column', 'a\u0007b\u0000', 2],
  ['accented Latin is one column each', 'café naïve', 10],
  ['mixed', 'fix: 修正 the パス', 18],
];

for (const [name, text, width] of cases) {
  test(`string width: ${name}`, async () => {
    assert.equal(stringWidth(text), width);
    // The package the bundle replaces, where it is installed (yargs depends on it).
    const real = (await import('string-width')).default as (s: string) => number;
    assert.equal(real(text), width, 'the string-width package agrees');
  });
}

test('string width: countAnsiEscapeCodes counts the escape bytes as the package does', () => {
  assert.equal(stringWidth('\u001b[1mB\u001b[0m', { countAnsiEscapeCodes: true }), 'B'.length + '[1m'.length + '[0m'.length);
});
