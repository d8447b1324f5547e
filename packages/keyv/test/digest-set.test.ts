import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DigestSet } from '../src/digest-set.js';

describe('DigestSet', () => {
  it('tells new values from seen ones across growth', () => {
    const set = new DigestSet();
    const values = Array.from({ length: 150_000 }, () => randomBytes(16).toString('base64url'));
    expect(values.filter((v) => !set.add(v))).toEqual([]);
    expect(set.size).toBe(values.length);
    expect(values.filter((v) => set.add(v))).toEqual([]);
    expect(set.size).toBe(values.length);
    expect(set.add('')).toBe(true);
    expect(set.add('')).toBe(false);
  });

  it('keeps apart keys that differ in one character, in length, or beyond Latin-1', () => {
    const set = new DigestSet();
    const keys: string[] = [];
    for (let i = 0; i < 50_000; i++) keys.push(`oc:at:${'a'.repeat(37)}${i.toString(36).padStart(6, '0')}`);
    keys.push('oc:at:', 'oc:at', 'oc:at:\u0000', 'oc:at:é', 'oc:at:e\u0301', 'oc:at:😀', 'oc:at:\ud83d');
    expect(keys.filter((k) => !set.add(k))).toEqual([]);
    expect(keys.filter((k) => set.add(k))).toEqual([]);
  });
});
