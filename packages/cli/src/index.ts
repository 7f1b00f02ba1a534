/** The flightdeck command line. */
export { main, program } from "./main.ts";
export { serve } from "./serve.ts";
