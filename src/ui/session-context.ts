// React's access to the session: a context for the instance, thin hooks over its vanilla store.
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { AppState } from '../store/app-store.ts';
import type { Session } from '../store/session.ts';

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside <SessionContext.Provider>');
  return s;
}

export function useApp<T>(selector: (s: AppState) => T): T {
  return useStore(useSession().store, selector);
}
