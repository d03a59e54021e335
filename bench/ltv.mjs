// npm run bench:ltv — fitting the lifetime-value models (docs/ltv.md) on BENCH_CUSTOMERS buyers
// (default 1,000,000) drawn from the models themselves (seeded), as the fit sees them after reading
// the facts: a summary per buyer (repeat purchases, day of the last, days observed) and the mean order
// value. Baseline, same run: one evaluation of each model's log-likelihood over the same data, the
// unit of work a fit repeats; the ratio says how many evaluations a fit costs. Reading the facts of a
// million profiles from the store comes on top (the same page scan segments use).
import { ROOT, fmt } from './lib.mjs';

const { fitBgNbd, bgnbdLogLikelihood } = await import(`${ROOT}dist/domain/ltv/bgnbd.js`);
const { fitGammaGamma, gammaGammaLogLikelihood } = await import(`${ROOT}dist/domain/ltv/gamma-gamma.js`);
const { simulateCustomers, seeded } = await import(`${ROOT}dist/domain/ltv/simulate.js`);

const N = Number(process.env.BENCH_CUSTOMERS ?? 1_000_000);
const TRUE = { bgnbd: { r: 0.6, alpha: 12, a: 0.8, b: 2.5 }, spend: { p: 6, q: 4, gamma: 15 } };
const line = (s = '') => process.stdout.write(`${s}\n`);
const time = (fn) => {
  const t = performance.now();
  const out = fn();
  return [out, (performance.now() - t) / 1000];
};

line(
  `LTV fit bench: ${fmt(N)} buyers observed 1–365 days (BG/NBD r=0.6 α=12 a=0.8 b=2.5; Gamma-Gamma p=6 q=4 γ=15)`,
);
const customers = simulateCustomers(seeded(1), N, TRUE, { T: (i) => 1 + (i % 365), horizon: 0 });
const rfm = customers.map((c) => ({ x: c.x, tx: Math.round(c.tx), T: c.T }));
const spend = customers
  .filter((c) => c.x > 0)
  .map((c) => ({ x: c.x, mean: c.values.reduce((s, v) => s + v, 0) / c.x }));
const [, llB] = time(() => bgnbdLogLikelihood(TRUE.bgnbd, rfm));
const [fitB, secB] = time(() => fitBgNbd(rfm));
const p = fitB.params;
line(
  `  BG/NBD: fitted in ${fmt(secB, 1)} s (r=${fmt(p.r, 3)} α=${fmt(p.alpha, 2)} a=${fmt(p.a, 3)} b=${fmt(p.b, 3)}); one likelihood evaluation ${fmt(llB * 1000, 0)} ms; ratio ${fmt(secB / llB, 0)} evaluations`,
);
const [, llG] = time(() => gammaGammaLogLikelihood(TRUE.spend, spend));
const [fitG, secG] = time(() => fitGammaGamma(spend));
const g = fitG.params;
line(
  `  Gamma-Gamma on ${fmt(spend.length)} repeat buyers: fitted in ${fmt(secG, 1)} s (p=${fmt(g.p, 2)} q=${fmt(g.q, 2)} γ=${fmt(g.gamma, 2)}); one evaluation ${fmt(llG * 1000, 0)} ms; ratio ${fmt(secG / llG, 0)}`,
);
line(`  both: ${fmt(secB + secG, 1)} s (target < 60 s)`);
