import { useState } from 'preact/hooks';
import { del, get, post, put } from '../../api.js';
import { ConfirmButton, FieldError, FormError, TextField } from '../../form.js';
import { formatNumber, useLocale, useT } from '../../i18n.js';
import { Empty, Show, useAsync } from '../../ui.js';

interface Pool {
  name: string;
  description: string | null;
  total: number;
  assigned: number;
  redeemed: number;
  available: number;
}

/**
 * Coupon code pools (docs/coupons.md): each pool's codes in hand, given out and redeemed; create a
 * pool, upload codes (one a line, as pasted from a spreadsheet), delete a pool after a confirmation.
 */
export function CouponPools(props: { canEdit: boolean }) {
  const t = useT();
  const { locale } = useLocale();
  const pools = useAsync(() => get<{ pools: Pool[] }>('/coupon-pools'), []);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [error, setError] = useState<unknown>(null);
  const create = (e: Event) => {
    e.preventDefault();
    setError(null);
    put(`/coupon-pools/${encodeURIComponent(name.trim())}`, {
      description: description.trim() === '' ? null : description,
    }).then(() => {
      setName('');
      setDescription('');
      pools.reload();
    }, setError);
  };
  const remove = (pool: string) => {
    setError(null);
    del(`/coupon-pools/${encodeURIComponent(pool)}`).then(() => {
      pools.reload();
    }, setError);
  };
  const n = (x: number) => formatNumber(locale, x);
  return (
    <>
      <Show value={pools}>
        {(p) =>
          p.pools.length === 0 ? (
            <Empty>{t('coupons.none')}</Empty>
          ) : (
            <table class="table" data-testid="coupon-pools">
              <thead>
                <tr>
                  <th>{t('customers.name')}</th>
                  <th class="num">{t('coupons.total')}</th>
                  <th class="num">{t('coupons.available')}</th>
                  <th class="num">{t('coupons.assigned')}</th>
                  <th class="num">{t('coupons.redeemed')}</th>
                  {props.canEdit && <th />}
                </tr>
              </thead>
              <tbody>
                {p.pools.map((x) => (
                  <tr key={x.name} data-pool={x.name}>
                    <td>
                      <code>{x.name}</code>
                      {x.description && <div class="muted">{x.description}</div>}
                    </td>
                    <td class="num">{n(x.total)}</td>
                    <td class="num">{n(x.available)}</td>
                    <td class="num">{n(x.assigned)}</td>
                    <td class="num">{n(x.redeemed)}</td>
                    {props.canEdit && (
                      <td>
                        <AddCodes pool={x.name} onAdded={pools.reload} />
                        <ConfirmButton
                          label={t('coupons.delete')}
                          confirm={t('coupons.deleteConfirm', { name: x.name })}
                          onConfirm={() => remove(x.name)}
                        />
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Show>
      {props.canEdit && (
        <form class="row" onSubmit={create} data-testid="new-pool">
          <TextField label={t('coupons.name')} value={name} onValue={setName} error={error} field="name" />
          <TextField
            label={t('coupons.description')}
            value={description}
            onValue={setDescription}
            error={error}
            field="description"
            labelClass="grow"
          />
          <button type="submit" class="primary">
            {t('coupons.create')}
          </button>
        </form>
      )}
      <FormError error={error} fields={['name', 'description']} />
    </>
  );
}

function AddCodes(props: { pool: string; onAdded: () => void }) {
  const t = useT();
  const [open, setOpen] = useState(false);
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<{ added: number; duplicates: number } | null>(null);
  const upload = (e: Event) => {
    e.preventDefault();
    setError(null);
    setResult(null);
    const codes = text
      .split(/\r?\n/)
      .map((c) => c.trim())
      .filter((c) => c !== '');
    post<{ added: number; duplicates: number }>(`/coupon-pools/${encodeURIComponent(props.pool)}/codes`, {
      codes,
    }).then((r) => {
      setResult(r);
      setText('');
      props.onAdded();
    }, setError);
  };
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)}>
        {t('coupons.addCodes')}
      </button>
    );
  return (
    <form class="stack" onSubmit={upload}>
      <label>
        {t('coupons.codes', { name: props.pool })}
        <textarea rows={4} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        <FieldError error={error} field="codes" />
      </label>
      <button type="submit">{t('coupons.upload')}</button>
      {result && (
        <p role="status">{t('coupons.added', { added: result.added, duplicates: result.duplicates })}</p>
      )}
      <FormError error={error} fields={['codes']} />
    </form>
  );
}
