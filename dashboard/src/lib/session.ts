/**
 * The operator's API key lives in sessionStorage: it goes when the tab closes, it is never put
 * in a URL (where logs and history would keep it) and never sent anywhere but our own /v1.
 */
const STORAGE_KEY = 'identity-service.dashboard.api-key';

export function loadApiKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function saveApiKey(key: string): void {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function clearApiKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}
