import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FieldError, placeholder, parseField, parseNumber, fieldText, section, inputMode } from '../../main/resources/webroot/js/fields.mjs';

test('parseField reads each schema kind; empty is undefined', () => {
  assert.equal(parseField('number', ' 0.1 ', 'lr'), 0.1);
  assert.equal(parseField('integer', '', 'steps'), undefined);
  assert.equal(parseField('boolean', 'true', 'x'), true);
  assert.equal(parseField('boolean', 'false', 'x'), false);
  assert.equal(parseField('choice', 'min', 'mode'), 'min');
  assert.deepEqual(parseField('numbers', '0.9, 0.999', 'betas'), [0.9, 0.999]);
  assert.deepEqual(parseField('strings', 'a, b', 'on'), ['a', 'b']);
});

test('what a field cannot read is refused, naming the field and the text', () => {
  assert.throws(() => parseField('number', 'abc', 'lr'), new FieldError('lr: "abc" is not a number'));
  assert.throws(() => parseNumber('Infinity', 'lr'), new FieldError('lr: "Infinity" is not a finite number'));
  assert.throws(() => parseField('numbers', '0.9,,1', 'optimizer.betas'),
    new FieldError('optimizer.betas: "0.9,,1" is not a list of numbers'));
});

test('placeholder: required, its default text, optional, the default', () => {
  assert.equal(placeholder({ required: true }), 'required');
  assert.equal(placeholder({ default_text: "the run's steps" }), "the run's steps");
  assert.equal(placeholder({ default: null }), 'optional');
  assert.equal(placeholder({ default: [0.9, 0.999] }), '0.9, 0.999');
  assert.equal(placeholder({ default: 0.001 }), '0.001');
  assert.equal(placeholder(undefined), '');
});

test('section keeps the base run\'s options the form has no field for, of the same type only', () => {
  const from = { type: 'adamw', lr: 0.01, betas: [0.9, 0.99], foreach: true };
  assert.deepEqual(section(from, 'adamw', ['betas', 'eps'], { eps: 1e-6 }), { type: 'adamw', lr: 0.01, foreach: true, eps: 1e-6 });
  assert.deepEqual(section(from, 'sgd', ['momentum'], {}), { type: 'sgd' });
  assert.deepEqual(section(undefined, 'sgd', [], { momentum: 0.9 }), { type: 'sgd', momentum: 0.9 });
});

test('fieldText and inputMode', () => {
  assert.equal(fieldText([1, 2]), '1, 2');
  assert.equal(fieldText(null), '');
  assert.equal(fieldText(0), '0');
  assert.equal(inputMode('integers'), 'numeric');
  assert.equal(inputMode('string'), 'text');
  assert.equal(inputMode('number'), 'decimal');
});
