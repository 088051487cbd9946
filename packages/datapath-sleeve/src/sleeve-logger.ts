/** Receives log lines (upstream's wording, prefixed `sleeve ->[addr|peer]: `). */
export type SleeveLogger = (message: string) => void;
