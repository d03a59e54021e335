import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { whenUnauthorized } from './api.js';
import { browserLocale, LocaleProvider, type Locale } from './i18n.js';
import { navigate } from './router.js';
import { resume, saveLocale, signOut, type Session } from './session.js';
import { Shell } from './shell.js';
import { SignIn } from './pages/sign-in.js';
import { ErrorBox, Loading } from './ui.js';
import './styles.css';

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [failure, setFailure] = useState<unknown>(null);
  const [locale, setLocale] = useState<Locale>(browserLocale());

  useEffect(() => {
    whenUnauthorized(() => setSession(null));
    resume().then(
      (s) => {
        setSession(s);
        if (s) setLocale(s.user.locale);
      },
      (e: unknown) => setFailure(e),
    );
  }, []);

  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);

  const changeLocale = (l: Locale) => {
    setLocale(l);
    if (session) void saveLocale(l).catch((e: unknown) => setFailure(e));
  };

  let body;
  if (failure) body = <ErrorBox error={failure} />;
  else if (session === undefined) body = <Loading />;
  else if (session === null)
    body = (
      <SignIn
        onSignedIn={(s) => {
          setSession(s);
          setLocale(s.user.locale);
          if (location.pathname === '/sign-in') navigate('/', true);
        }}
      />
    );
  else
    body = (
      <Shell
        session={session}
        onSignOut={() => {
          void signOut().then(() => {
            setSession(null);
            navigate('/sign-in', true);
          });
        }}
      />
    );
  return (
    <LocaleProvider locale={locale} setLocale={changeLocale}>
      {body}
    </LocaleProvider>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
