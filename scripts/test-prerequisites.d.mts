export interface Located {
  readonly path?: string;
  readonly tried?: string[];
}
export interface Prerequisite {
  readonly name: string;
  readonly package: string;
  locate(env: NodeJS.ProcessEnv): Located;
}
export declare function findOnPath(name: string, env?: NodeJS.ProcessEnv): string | undefined;
export declare const CHROMIUM_NAMES: readonly string[];
export declare function locateChromium(env?: NodeJS.ProcessEnv): Located;
export declare const PREREQUISITES: readonly Prerequisite[];
export declare function missingPrerequisites(
  env?: NodeJS.ProcessEnv,
): Array<Prerequisite & { tried: string[] }>;
export declare function main(env?: NodeJS.ProcessEnv, log?: (line: string) => void): number;
