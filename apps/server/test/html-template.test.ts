/**
 * The `html` tagged template every page is built with: interpolated values are escaped unless they
 * are genuine `SafeHtml` (a nested `html` or an explicit `unsafeRaw`), in element content and in
 * double-quoted attributes alike.
 */
import { describe, expect, it } from 'vitest';
import { consolePage } from '../src/console/layout.js';
import { escapeHtml, type HtmlValue, html, joinHtml, page, SafeHtml, unsafeRaw } from '../src/views/html.js';
import { messagePage } from '../src/views/message-page.js';

const HOSTILE = `<script>alert("x")</script>'\`&`;
const ESCAPED = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&#96;&amp;';

describe('html`...`', () => {
  it('escapes interpolated text in element content', () => {
    expect(String(html`<p>${HOSTILE}</p>`)).toBe(`<p>${ESCAPED}</p>`);
  });

  it('escapes quotes and backticks in attribute values', () => {
    const out = String(html`<input value="${`" onfocus="alert(1)`}" title="${"' `x`"}">`);
    expect(out).toBe('<input value="&quot; onfocus=&quot;alert(1)" title="&#39; &#96;x&#96;">');
    expect(out).not.toContain('" onfocus="');
  });

  it('leaves the literal parts as markup', () => {
    expect(String(html`<a href="/x?a=1&amp;b=2">&#9632;</a>`)).toBe('<a href="/x?a=1&amp;b=2">&#9632;</a>');
  });

  it('does not escape a nested html result twice', () => {
    const inner = html`<strong>${'a & b'}</strong>`;
    expect(String(html`<p>${inner}</p>`)).toBe('<p><strong>a &amp; b</strong></p>');
    expect(String(html`<div>${html`<p>${inner}</p>`}</div>`)).toBe(
      '<div><p><strong>a &amp; b</strong></p></div>',
    );
  });

  it('joins arrays, each element by the same rule', () => {
    const items: HtmlValue[] = [
      html`<li>${'<a>'}</li>`,
      '<b>',
      3,
      undefined,
      false,
      null,
      [html`<i></i>`, '&'],
    ];
    expect(String(html`<ul>${items}</ul>`)).toBe('<ul><li>&lt;a&gt;</li>&lt;b&gt;3<i></i>&amp;</ul>');
    expect(String(html`${[]}`)).toBe('');
  });

  it('renders undefined, null and false as nothing, numbers with String()', () => {
    expect(String(html`[${undefined}][${null}][${false}]`)).toBe('[][][]');
    expect(String(html`${0} ${-1.5} ${12_345}`)).toBe('0 -1.5 12345');
    expect(String(html`${''}`)).toBe('');
  });

  it('trusts unsafeRaw markup as is', () => {
    const style = unsafeRaw('body{font-family:"Segoe UI"}');
    expect(String(html`<style>${style}</style>`)).toBe('<style>body{font-family:"Segoe UI"}</style>');
    expect(unsafeRaw('<b>')).toBeInstanceOf(SafeHtml);
  });

  it('escapes a look-alike object as text: the brand is a private field, not a shape', () => {
    const fakes = [
      { toString: () => '<img src=x onerror=alert(1)>' },
      Object.assign(Object.create(SafeHtml.prototype) as object, { toString: () => '<img>' }),
    ];
    for (const fake of fakes) {
      expect(SafeHtml.is(fake)).toBe(false);
      const out = String(html`<p>${fake as unknown as SafeHtml}</p>`);
      expect(out).not.toContain('<img');
      expect(out).toContain('&lt;img');
    }
    // Inheriting from a genuine one is not enough either: its markup is not reachable (fails closed).
    const heir = Object.create(html`<img>`) as SafeHtml;
    expect(SafeHtml.is(heir)).toBe(false);
    expect(() => html`<p>${heir}</p>`).toThrow(TypeError);
    expect(SafeHtml.is(html`<img>`)).toBe(true);
    expect(SafeHtml.is('<img>')).toBe(false);
  });

  it('cannot be minted outside html / unsafeRaw', () => {
    const Ctor = SafeHtml as unknown as new (markup: string, mint: symbol) => SafeHtml;
    expect(() => new Ctor('<img>', Symbol('SafeHtml'))).toThrow(TypeError);
  });

  it('uses the same escaping as escapeHtml', () => {
    expect(String(html`${HOSTILE}`)).toBe(escapeHtml(HOSTILE));
  });
});

describe('joinHtml', () => {
  it('puts markup between escaped items', () => {
    expect(String(joinHtml(['<a>', html`<b></b>`, 2], html` &nbsp; `))).toBe(
      '&lt;a&gt; &nbsp; <b></b> &nbsp; 2',
    );
    expect(String(joinHtml([], html`\n`))).toBe('');
  });
});

describe('pages', () => {
  it('page() escapes the title and keeps the body and style sheet', () => {
    const out = String(page(HOSTILE, html`<p>${HOSTILE}</p>`));
    expect(out).toContain(`<title>${ESCAPED}</title>`);
    expect(out).toContain(`<p>${ESCAPED}</p>`);
    expect(out).toContain('font-family:system-ui,-apple-system,"Segoe UI"');
    expect(out).not.toContain('<script>');
  });

  it('messagePage and consolePage escape what they are given', () => {
    const message = String(messagePage(HOSTILE, HOSTILE, HOSTILE));
    expect(message).not.toContain('<script>');
    expect(message).toContain(`<p class="meta">${ESCAPED}</p>`);
    const console = String(consolePage(HOSTILE, html`<p>ok</p>`, { section: 'users', csrf: `"><script>` }));
    expect(console).not.toContain('<script>');
    expect(console).toContain('<input type="hidden" name="csrf" value="&quot;&gt;&lt;script&gt;">');
    expect(console).toContain('<a href="/console" class="active">Users</a>');
  });
});
