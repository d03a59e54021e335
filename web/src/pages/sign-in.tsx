import { useState } from 'preact/hooks';
import { useLocale, useT } from '../i18n.js';
import { signIn, type Session } from '../session.js';
import { ErrorBox } from '../ui.js';
import { LocaleSwitch } from '../shell.js';

export function SignIn(props: { onSignedIn: (s: Session) => void }) {
  const t = useT();
  useLocale();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [workspace, setWorkspace] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    signIn(email, password, workspace || undefined).then(props.onSignedIn, (err: unknown) => {
      setError(err);
      setBusy(false);
    });
  };

  return (
    <main class="sign-in">
      <div class="sign-in-box">
        <div class="brand-row">
          <h1>
            <span aria-hidden="true">絆</span> Kizuna
          </h1>
          <LocaleSwitch />
        </div>
        <p class="muted">{t('signin.intro')}</p>
        <form onSubmit={submit}>
          <label>
            {t('signin.email')}
            <input
              type="email"
              name="email"
              autoComplete="username"
              required
              value={email}
              onInput={(e) => setEmail(e.currentTarget.value)}
            />
          </label>
          <label>
            {t('signin.password')}
            <input
              type="password"
              name="password"
              autoComplete="current-password"
              required
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
          </label>
          <label>
            {t('signin.workspace')}
            <input
              name="workspace"
              value={workspace}
              placeholder={t('signin.workspaceHint')}
              onInput={(e) => setWorkspace(e.currentTarget.value)}
            />
          </label>
          {error !== null && <ErrorBox error={error} />}
          <button type="submit" class="primary" disabled={busy}>
            {t('signin.submit')}
          </button>
        </form>
        <p class="muted">{t('signin.noAccount')}</p>
      </div>
    </main>
  );
}
