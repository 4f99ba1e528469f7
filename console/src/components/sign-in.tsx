import { useEffect, useState } from 'preact/hooks';
import { type Answer, answer, api } from '../api/client';
import { asProblem } from '../lib/use-load';
import { credential, identity, type SessionIdentity, signIn, signOut } from '../state/session';

type WhoAmI = Answer<'whoAmI'>;

/** Asks the node who the console acts as, once at start and after each sign-in or sign-out. */
export function useSession(): void {
  useEffect(() => {
    answer(api.GET('/v1/whoami')).then(
      (who: WhoAmI) => {
        identity.value = sessionIdentityOf(who);
      },
      (error: unknown) => {
        // A 401 already cleared the credential (the client's middleware); any other failure shows on pages.
        if (asProblem(error).problem.status !== 401) identity.value = 'unknown';
      },
    );
  }, [credential.value]);
}

/**
 * The sign-in form the console shows instead of its pages when the node asks for credentials: an API key
 * (`keel_…`, made with `keel keys create`) or an OpenID Connect access token. The node checks it
 * (`GET /v1/whoami`) before it is kept, for this tab only.
 */
export function SignIn() {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const given = token.trim();
    if (!given) return;
    setBusy(true);
    setError(undefined);
    try {
      const response = await fetch('/v1/whoami', { headers: { authorization: `Bearer ${given}` } });
      if (!response.ok) {
        const body = (await response.json().catch(() => ({}))) as { detail?: string };
        setError(body.detail ?? `the node answered ${response.status}`);
        return;
      }
      signIn(given, sessionIdentityOf((await response.json()) as WhoAmI));
      setToken('');
    } catch (failure) {
      setError(asProblem(failure).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in</h1>
      <p class="muted">
        This node requires an identity. Paste an API key (<code>keel keys create</code> makes one) or an
        OpenID Connect access token. It is kept for this browser tab only, until you sign out.
      </p>
      <form onSubmit={submit}>
        <label>
          <span>API key or access token</span>
          <input
            type="password"
            name="credential"
            autocomplete="off"
            spellcheck={false}
            value={token}
            onInput={(event) => setToken(event.currentTarget.value)}
            aria-describedby={error ? 'sign-in-error' : undefined}
            required
          />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
      {error && (
        <div class="problem" role="alert" id="sign-in-error">
          <strong>Not signed in</strong>
          <p>{error}</p>
        </div>
      )}
    </section>
  );
}

/** Who is signed in, in the header, with the way out (nothing to sign out of when the node has auth off). */
export function SessionBadge() {
  const who = identity.value;
  if (!who || who === 'unknown') return null;
  const anonymous = who.via === 'unauthenticated';
  return (
    <div class="session" data-session={who.subject}>
      <span class="muted" title={`${who.subject} · roles: ${who.roles.join(', ')}`}>
        {anonymous ? 'Auth off' : `Signed in as ${who.name}`}
      </span>
      {!anonymous && (
        <button type="button" class="secondary" onClick={signOut}>
          Sign out
        </button>
      )}
    </div>
  );
}

function sessionIdentityOf(who: WhoAmI): SessionIdentity {
  return { subject: who.subject, name: who.name, via: who.via, roles: who.roles, tenants: who.tenants };
}
