import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { Workspace, WorkspaceState } from '../store/workspace.ts';

export const WorkspaceContext = createContext<Workspace | null>(null);

export function useWorkspace(): Workspace {
  const w = useContext(WorkspaceContext);
  if (!w) throw new Error('useWorkspace outside <WorkspaceContext.Provider>');
  return w;
}

export function useWs<T>(selector: (s: WorkspaceState) => T): T {
  return useStore(useWorkspace().store, selector);
}

export const selectMode = (s: WorkspaceState) => s.mode;
export const selectTour = (s: WorkspaceState) => s.tour;
export const selectPredict = (s: WorkspaceState) => s.predict;
export const selectScore = (s: WorkspaceState) => s.score;
export const selectRefaults = (s: WorkspaceState) => s.refaults;
export const selectScaling = (s: WorkspaceState) => s.scaling;
export const selectCompareVersion = (s: WorkspaceState) => s.compareVersion;
export const selectCompareFrom = (s: WorkspaceState) => s.compareFrom;
export const selectCompareBy = (s: WorkspaceState) => s.compareBy;
export const selectCompareUndo = (s: WorkspaceState) => s.compareUndo;
export const selectUndo = (s: WorkspaceState) => s.undo;
export const selectSelectedPane = (s: WorkspaceState) => s.selectedPane;
