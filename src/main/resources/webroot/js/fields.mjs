// The forms' option fields, as GET /api/schema describes them (name, kind, default, required, choices): what a
// field shows when empty, and what its text means. Pure: the DOM side is forms.mjs.
import { fmt } from './format.mjs';

/** A field's text its schema kind cannot read; the message names the field and the text. */
export class FieldError extends Error {}

/** What an empty field shows: required, the default (or its description), optional. */
export function placeholder(o) {
  if (!o) return '';
  if (o.required) return 'required';
  if (o.default_text) return o.default_text;
  if (o.default === null) return 'optional';
  return Array.isArray(o.default) ? o.default.join(', ') : typeof o.default === 'number' ? fmt(o.default) : String(o.default);
}

/** The keyboard a field of this kind wants. */
export const inputMode = kind => (kind === 'integer' || kind === 'integers' ? 'numeric'
  : kind === 'strings' || kind === 'string' ? 'text' : 'decimal');

/** A number typed in a field labelled `label`, or undefined when empty; anything else is a FieldError. */
export function parseNumber(text, label) {
  text = text.trim();
  if (text === '') return undefined;
  const v = Number(text);
  if (Number.isNaN(v)) throw new FieldError(`${label}: "${text}" is not a number`);
  if (!Number.isFinite(v)) throw new FieldError(`${label}: "${text}" is not a finite number`);
  return v;
}

/** A field's value by its kind (undefined when empty): booleans, choices, strings, numbers, lists of either. */
export function parseField(kind, text, label) {
  text = text.trim();
  if (text === '') return undefined;
  if (kind === 'boolean') return text === 'true';
  if (kind === 'choice' || kind === 'string') return text;
  if (kind === 'number' || kind === 'integer') return parseNumber(text, label);
  const parts = text.split(',').map(x => x.trim());
  if (kind === 'strings') return parts;
  const list = parts.map(Number);
  if (parts.some((x, i) => x === '' || !Number.isFinite(list[i]))) throw new FieldError(`${label}: "${text}" is not a list of numbers`);
  return list;
}

/** What a field shows for a value: lists comma-separated, nothing for none. */
export const fieldText = v => (v === undefined || v === null ? '' : Array.isArray(v) ? v.join(', ') : String(v));

/**
 * A typed section ({type, …options}) as a form says it: the base run's own if of the same type (options the form
 * shows no field for are kept), `shown` (the fields the form has) replaced by `values` (those filled in).
 */
export function section(from, type, shown, values) {
  const out = from && typeof from === 'object' && from.type === type ? { ...from } : { type };
  for (const name of shown) delete out[name];
  return Object.assign(out, values);
}
