import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flatten, configOf, rowOf, columnsOf, varying, valueOf, parseFilter, matches, sortRows, groupRows, stats,
  bestGroup, higherIsBetter, keyColumns, compareValues } from '../../main/resources/webroot/js/compare.mjs';

const run = (id, cfg, extra = {}) => ({ id, name: `run ${id}`, state: 'finished', spec: { source: 'external', name: `run ${id}`, config: cfg,
  optimizer: { type: 'sgd' } }, step: 1000, loss: 0.5, best_loss: 0.4, tags: [], notes: '', ...extra });

test('flatten: dotted paths, lists as text', () => {
  assert.deepEqual(flatten({ optimizer: { type: 'adam', betas: [0.9, 0.999] }, steps: 10, problem: 'mlp' }),
    { 'optimizer.type': 'adam', 'optimizer.betas': '0.9, 0.999', steps: 10, problem: 'mlp' });
  assert.deepEqual(configOf({ spec: { name: 'x', source: 'external', config: { lr: 0.1 } } }), { 'config.lr': 0.1 });
});

test('rowOf: results from the summary, metrics from the summary over the page\'s', () => {
  const r = rowOf(run('a', { lr: 0.1 }, { metrics: { 'val/acc': { last: 0.9, min: 0.1, max: 0.95, step: 1000 } } }),
    { 'val/acc': { last: 0.5, min: 0, max: 0.5 }, val_loss: { last: 0.3, min: 0.3, max: 2 } });
  assert.equal(r.results['val/acc:last'], 0.9);
  assert.equal(r.results['val_loss:min'], 0.3);
  assert.equal(r.results.best_loss, 0.4);
  assert.equal(r.config['config.lr'], 0.1);
});

test('columns: config paths first, then results (loss first); numeric when every value is', () => {
  const rows = [rowOf(run('a', { lr: 0.1, schedule: 'cosine' }), { val_acc: { last: 1, min: 0, max: 1 } }),
    rowOf(run('b', { lr: 0.01, schedule: 'step' }))];
  const cols = columnsOf(rows);
  const ids = cols.map(c => c.id);
  assert.deepEqual(ids.slice(0, 3), ['config:config.lr', 'config:config.schedule', 'config:optimizer.type']);
  assert.equal(ids[3], 'result:loss');
  assert.ok(ids.includes('result:val_acc:last') && ids.includes('result:val_acc:max'));
  assert.equal(cols.find(c => c.id === 'config:config.lr').numeric, true);
  assert.equal(cols.find(c => c.id === 'config:config.schedule').numeric, false);
  assert.equal(cols.find(c => c.id === 'result:val_acc:last').label, 'val_acc');
  assert.equal(cols.find(c => c.id === 'result:val_acc:max').label, 'val_acc max');
  assert.deepEqual(varying(rows), ['config:config.lr', 'config:config.schedule']);
  const same = [rowOf(run('a', { lr: 0.1 }, { spec: { source: 'external', config: { lr: 0.1, seed: 1 }, optimizer: { lr: 0.1, initial_lr: 0.1 } } })),
    rowOf(run('b', { lr: 0.2 }, { spec: { source: 'external', config: { lr: 0.2, seed: 2 }, optimizer: { lr: 0.2, initial_lr: 0.2 } } })),
    rowOf(run('c', { lr: 0.2 }, { spec: { source: 'external', config: { lr: 0.2, seed: 3 }, optimizer: { lr: 0.2, initial_lr: 0.2 } } }))];
  assert.deepEqual(varying(same), ['config:config.seed', 'config:config.lr'], 'one column of the three that split the runs alike');
});

test('the filter: words, comparisons, ranges, tags; what it cannot read is named', () => {
  const rows = [rowOf(run('a', { lr: 0.1, schedule: 'cosine' }, { tags: ['baseline'], notes: 'first try' }), { val_acc: { last: 0.91, min: 0, max: 0.93 } }),
    rowOf(run('b', { lr: 0.01, schedule: 'step' }), { val_acc: { last: 0.95, min: 0, max: 0.96 } }),
    rowOf(run('c', { lr: 0.001, schedule: 'cosine' }, { state: 'diverged' }))];
  const cols = columnsOf(rows);
  const pass = text => { const f = parseFilter(text); assert.equal(f.error, null, text); return rows.filter(r => matches(r, f.terms, cols)).map(r => r.id); };
  assert.deepEqual(pass(''), ['a', 'b', 'c']);
  assert.deepEqual(pass('first'), ['a'], 'notes');
  assert.deepEqual(pass('tag:baseline'), ['a']);
  assert.deepEqual(pass('lr<0.05'), ['b', 'c'], 'lr is config.lr');
  assert.deepEqual(pass('lr=1e-3..1e-2'), ['b', 'c']);
  assert.deepEqual(pass('schedule=cosine lr>=0.01'), ['a']);
  assert.deepEqual(pass('val_acc>0.92'), ['b'], 'a metric is its last value');
  assert.deepEqual(pass('val_acc:max>0.95'), ['b']);
  assert.deepEqual(pass('state:diverged'), ['c']);
  assert.deepEqual(pass('schedule!=cosine'), ['b']);
  assert.deepEqual(pass('"run a"'), ['a'], 'quotes keep a space');
  assert.match(parseFilter('lr>abc').error, /"lr>abc": > takes a number/);
  assert.match(parseFilter('lr=a..b').error, /a range of numbers/);
  assert.equal(keyColumns('lr', cols).length, 1);
});

test('sorting: numbers by value, missing last both ways, ties in order', () => {
  const rows = [{ id: 'a', config: { x: 2 }, results: {} }, { id: 'b', config: {}, results: {} }, { id: 'c', config: { x: 1 }, results: {} },
    { id: 'd', config: { x: 2 }, results: {} }];
  assert.deepEqual(sortRows(rows, 'config:x', 1).map(r => r.id), ['c', 'a', 'd', 'b']);
  assert.deepEqual(sortRows(rows, 'config:x', -1).map(r => r.id), ['a', 'd', 'c', 'b']);
  assert.ok(compareValues('run 2', 'run 10') < 0, 'numbers in text compare as numbers');
});

test('grouping by sweep, tag and a column; stats and the best group', () => {
  const rows = [rowOf(run('a', { schedule: 'cosine' }, { tags: ['x', 'y'], sweep: 's1' }), { acc: { last: 0.9, min: 0, max: 0.9 } }),
    rowOf(run('b', { schedule: 'step' }, { tags: ['x'] }), { acc: { last: 0.7, min: 0, max: 0.7 } }),
    rowOf(run('c', { schedule: 'cosine' }, { sweep: 's1' }), { acc: { last: 0.8, min: 0, max: 0.8 } })];
  assert.deepEqual(groupRows(rows, 'sweep').map(g => [g.key, g.rows.map(r => r.id)]), [['sweep s1', ['a', 'c']], ['no sweep', ['b']]]);
  assert.deepEqual(groupRows(rows, 'tag').map(g => [g.key, g.rows.length]), [['tag x', 2], ['no tag', 1]], 'by the first tag');
  const bySchedule = groupRows(rows, 'config:config.schedule');
  assert.deepEqual(bySchedule.map(g => g.key), ['cosine', 'step']);
  const st = stats(bySchedule[0].rows.map(r => valueOf(r, 'result:acc:last')));
  assert.ok(Math.abs(st.mean - 0.85) < 1e-12 && st.min === 0.8 && st.max === 0.9 && st.n === 2, JSON.stringify(st));
  assert.equal(bestGroup(bySchedule, 'result:acc:last', true).key, 'cosine');
  assert.equal(bestGroup(bySchedule, 'result:acc:last', false).key, 'step');
  assert.equal(stats([null, NaN, undefined]), null);
  assert.ok(higherIsBetter('val/acc') && higherIsBetter('f1') && !higherIsBetter('val_loss') && !higherIsBetter('error'));
});
