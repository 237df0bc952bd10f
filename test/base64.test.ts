/**
 * Base64 inputs (images, PEFT weights): standard alphabet, optional padding, line breaks and a
 * data-URL prefix accepted; any other character, misplaced or excess padding, impossible lengths
 * and non-canonical padding bits refused with a ValidationError naming the field.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../registry/errors.ts';
import { decodeBase64 } from '../service/inputs.ts';

const hex = (s: string) => Buffer.from(decodeBase64(s, 'inputs[0].image_base64')).toString('hex');

describe('decodeBase64', () => {
  it('accepts standard base64 with or without padding, with whitespace, or as a data URL', () => {
    const accepted: Record<string, string> = {
      'QQ==': '41', QQ: '41', 'QQ=': '41', 'QUI=': '4142', QUI: '4142', QUJD: '414243', 'QUJ D': '414243', 'QUJD\n': '414243',
      'QU\r\nJD\t': '414243', 'data:image/png;base64,QUJD': '414243',
    };
    for (const [input, bytes] of Object.entries(accepted)) assert.equal(hex(input), bytes, JSON.stringify(input));
    const big = Buffer.alloc(3 * 1024 * 1024 + 1, 0xab);
    assert.deepEqual(Buffer.from(decodeBase64(big.toString('base64'), 'w')), big);
  });

  it('refuses anything else, naming the field', () => {
    for (const input of ['', '====', 'Q', 'QQQQQ', 'QQ===', 'Q===', 'QR==', 'QUJD!', 'QU-D', 'QU_D', 'QQ==QQ==', '=QUJD', 'QU=D', 'data:image/png;base64,']) {
      assert.throws(() => hex(input), (err: unknown) => err instanceof ValidationError && /^inputs\[0\]\.image_base64: expected base64-encoded PNG or JPEG bytes, got (an empty string|invalid base64)$/.test(err.message), JSON.stringify(input));
    }
  });
});
