/** Dark and light themes: the user's choice, else the system's. */
import { createContext, useContext } from "react";

export type Theme = "dark" | "light";
const KEY = "flightdeck.theme";

export function initialTheme(): Theme {
  const stored = localStorage.getItem(KEY);
  if (stored === "dark" || stored === "light") return stored;
  return matchMedia("(prefers-color-scheme: light)").matches ? "light" : "dark";
}

export function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
  localStorage.setItem(KEY, theme);
}

/** The theme in force, for what draws its own colors (charts, graphs) and must redraw on a change. */
export const ThemeContext = createContext<Theme>("dark");
export const useTheme = (): Theme => useContext(ThemeContext);
