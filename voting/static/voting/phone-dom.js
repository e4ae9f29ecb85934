// Small DOM and text helpers shared by the phone's modules. Attendee text only ever enters the
// page through textContent (el's third argument), never as markup.

export const $ = (id) => document.getElementById(id);

/** "{name}" placeholders in a translated sentence, filled with plain values. */
export function fill(template, values) {
  return String(template).replace(/\{(\w+)\}/g, (match, key) => (key in values ? String(values[key]) : match));
}

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Length in code points, as the server counts it (an emoji is one). */
export function chars(text) {
  return [...text].length;
}
