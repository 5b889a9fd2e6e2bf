// Tiny DOM builders. Every string becomes a Text node or an attribute value: nothing here parses
// HTML, so a hostile qname such as `<img src=x onerror=alert(1)>.example.` stays text.

export type Child = Node | string | number | null | undefined | false | Child[]
type Attrs = Record<string, string | number | boolean | null | undefined>

const SVG_NS = 'http://www.w3.org/2000/svg'

/** Creates an HTML element. `class` and `data-*` attributes go through setAttribute. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  setAttrs(el, attrs)
  append(el, children)
  return el
}

/** Creates an SVG element (charts, timelines). */
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag)
  setAttrs(el, attrs)
  append(el, children)
  return el
}

function setAttrs(el: Element, attrs: Attrs | null) {
  if (!attrs) return
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue
    // Event handlers and inline styles are never set from here (CSP, and data must stay data).
    if (/^on/i.test(k) || k === 'style') throw new Error(`refusing attribute ${k}`)
    el.setAttribute(k, v === true ? '' : String(v))
  }
}

export function append(el: Node, children: Child[]) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue
    if (Array.isArray(c)) append(el, c)
    else if (typeof c === 'string' || typeof c === 'number')
      el.appendChild(document.createTextNode(String(c)))
    else el.appendChild(c)
  }
}

/** Replaces the children of `el`. */
export function replace(el: Element, ...children: Child[]) {
  el.replaceChildren()
  append(el, children)
}

/** A link only for http(s) URLs; anything else (javascript:, data:) is shown as plain text. */
export function safeLink(text: string): HTMLElement {
  let url: URL | null = null
  try {
    url = new URL(text)
  } catch {
    url = null
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) return h('span', null, text)
  return h('a', { href: url.href, target: '_blank', rel: 'noopener noreferrer' }, text)
}
