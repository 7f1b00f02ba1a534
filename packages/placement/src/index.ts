/** Admission and placement: power as a scheduling primitive. */
export {};
