// Small DOM and text helpers shared by the phone's modules. Attendee text only ever enters the
// page through textContent (el's third argument), never as markup.
import { el } from "./dom.js";

export { el };

export const $ = (id) => document.getElementById(id);

/** "{name}" placeholders in a translated sentence, filled with plain values. */
export function fill(template, values) {
  const text = String(template);
  return text.replace(/\{(\w+)\}/g, (match, key) => (key in values ? String(values[key]) : match));
}

/**
 * The same, as nodes: each value goes in its own <bdi>, so a right-to-left (or
 * direction-overriding) name or title cannot reorder the translated words around it.
 */
export function fillNodes(template, values) {
  const nodes = [];
  let last = 0;
  const text = String(template);
  for (const match of text.matchAll(/\{(\w+)\}/g)) {
    nodes.push(text.slice(last, match.index));
    const value = values[match[1]];
    nodes.push(value === undefined ? match[0] : value instanceof Node ? value : el("bdi", "", String(value)));
    last = match.index + match[0].length;
  }
  nodes.push(text.slice(last));
  return nodes;
}


/** Length in code points, as the server counts it (an emoji is one). */
export function chars(text) {
  return [...text].length;
}
