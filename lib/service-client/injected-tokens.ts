import type { ModulesContainer } from '@nestjs/core';

// Nest's metadata keys (@nestjs/common constants, unchanged since Nest 5): the tokens given to
// @Inject() on constructor parameters and on properties.
const SELF_DECLARED_DEPS = 'self:paramtypes';
const PROPERTY_DEPS = 'self:properties_metadata';

type Reflector = { getMetadata?(key: string, target: object): unknown };
const reflect = Reflect as unknown as Reflector;

function metadata(key: string, target: unknown): readonly { param?: unknown; type?: unknown }[] {
  if (typeof target !== 'function' || typeof reflect.getMetadata !== 'function') return [];
  const value = reflect.getMetadata(key, target);
  return Array.isArray(value) ? value : [];
}

interface WrapperLike {
  readonly metatype?: unknown;
  readonly inject?: readonly unknown[] | null;
}

function injects(wrapper: WrapperLike, token: string): boolean {
  if (Array.isArray(wrapper.inject)) {
    return wrapper.inject.some(
      dependency =>
        dependency === token ||
        (typeof dependency === 'object' &&
          dependency !== null &&
          (dependency as { token?: unknown }).token === token),
    );
  }
  return (
    metadata(SELF_DECLARED_DEPS, wrapper.metatype).some(entry => entry.param === token) ||
    metadata(PROPERTY_DEPS, wrapper.metatype).some(entry => entry.type === token)
  );
}

/**
 * Whether a provider, controller or enhancer of the app asks for `token` by `@Inject(token)` (on a
 * constructor parameter or a property) or in a factory's `inject`. Lookups at run time
 * (`moduleRef.get(token)`) are not seen.
 */
export function isTokenInjected(container: ModulesContainer, token: string): boolean {
  for (const module of container.values()) {
    for (const wrappers of [module.providers, module.controllers, module.injectables]) {
      for (const wrapper of wrappers.values()) {
        if (injects(wrapper as WrapperLike, token)) return true;
      }
    }
  }
  return false;
}
