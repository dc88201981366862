// The record of the previous release that the lab's upgrade scenarios build (no root; part of npm test).
import { describe, expect, it } from 'vitest';
import { previousCommit } from './previous-release.mjs';

describe('test/lab/previous-release.txt', () => {
  it('names one full commit', () => {
    expect(previousCommit()).toMatch(/^[0-9a-f]{40}$/);
  });

  it.each([
    ['only comments', '# the previous release\n'],
    ['an abbreviated hash', '# 0.2\n67f7f8c\n'],
    ['a branch name', 'main\n'],
  ])('a record with %s is refused with what it expects', (_, text) => {
    expect(() => previousCommit(text)).toThrow(/expected a full commit hash \(40 hex digits\)/);
  });

  it('skips comments and blank lines', () => {
    expect(previousCommit(`# a comment\n\n  ${'a'.repeat(40)}  \n${'b'.repeat(40)}\n`)).toBe('a'.repeat(40));
  });
});
