/**
 * Sees every HTTP request a piece of async work sends, through Node's diagnostics channels
 * (`http.client.request.start` for node:http, `undici:request:create` for fetch) and an
 * AsyncLocalStorage that marks which work a request belongs to. This is how the accounting
 * wrapper counts the real HTTP requests of an SDK call (list pages, multipart parts, the SDK's
 * own follow-up requests) instead of guessing them.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnostics from 'node:diagnostics_channel';

/** Told of each HTTP request started inside the observed work: its method and host. */
export type HttpObserver = (request: { method: string; host: string }) => void;

/**
 * Credential endpoints the SDKs call on their own (token exchange, instance metadata): these are
 * not requests to the store, are not billed as storage operations, and are not counted.
 */
const CREDENTIAL_HOSTS = new Set([
  'oauth2.googleapis.com', 'metadata.google.internal', 'metadata', '169.254.169.254', '169.254.170.2',
  'fd00:ec2::254', 'login.microsoftonline.com', 'sts.amazonaws.com',
]);

const current = new AsyncLocalStorage<HttpObserver>();
let subscribed = false;

function report(method: unknown, host: unknown): void {
  const observer = current.getStore();
  if (!observer) return;
  const name = typeof host === 'string' ? host.replace(/^\[|\]$/g, '') : '';
  if (CREDENTIAL_HOSTS.has(name) || /\.sts\.amazonaws\.com$|^sts\./.test(name)) return;
  observer({ method: typeof method === 'string' ? method.toUpperCase() : 'GET', host: name });
}

/** Subscribes once, on first use (never at import: importing has no side effects). */
function subscribe(): void {
  if (subscribed) return;
  subscribed = true;
  diagnostics.subscribe('http.client.request.start', (message) => {
    const { request } = message as { request: { method?: unknown; host?: unknown } };
    report(request.method, request.host);
  });
  diagnostics.subscribe('undici:request:create', (message) => {
    const { request } = message as { request: { method?: unknown; origin?: unknown } };
    let host: string | undefined;
    try {
      host = new URL(String(request.origin)).hostname;
    } catch {
      host = undefined;
    }
    report(request.method, host);
  });
}

/**
 * Runs `work` so that every HTTP request started from it, directly or from any promise or timer
 * it schedules (including work that goes on after it settled), is reported to `observer`.
 * Nested calls: the innermost observer is told.
 */
export function observeHttp<T>(observer: HttpObserver, work: () => T): T {
  subscribe();
  return current.run(observer, work);
}
