// The version, injected by the CLI build (scripts/build-cli.mjs); 'dev' when run from source.
declare const __DNSBUNDLE_VERSION__: string | undefined
export const VERSION: string =
  typeof __DNSBUNDLE_VERSION__ === 'string' ? __DNSBUNDLE_VERSION__ : '0.1.0-dev'
