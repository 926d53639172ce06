/**
 * The repository's Jest configuration with every Nest package (and rxjs) taken from a Nest 11
 * install at NEST11_DIR (see run.mjs): the library sources and the specs run unchanged.
 */
import base from '../../jest.config.js';

const dir = process.env.NEST11_DIR;
if (!dir) throw new Error('NEST11_DIR is not set: run `npm run test:nest11`');

export default {
  ...base,
  rootDir: '../..',
  moduleNameMapper: {
    '^@nestjs/(common|core|platform-express|platform-fastify|testing|config|websockets)$': `${dir}/node_modules/@nestjs/$1`,
    '^@nestjs/(common|core|platform-express|platform-fastify|testing|config|websockets)/(.*)$': `${dir}/node_modules/@nestjs/$1/$2`,
    // Nest 11's ValidationPipe loads these from its own folder: the repository's copies, so that
    // the DTO decorators of the specs and the pipe share one metadata storage.
    '^class-validator$': '<rootDir>/node_modules/class-validator',
    '^class-transformer$': '<rootDir>/node_modules/class-transformer',
    '^rxjs$': `${dir}/node_modules/rxjs`,
    '^rxjs/(.*)$': `${dir}/node_modules/rxjs/$1`,
    ...base.moduleNameMapper,
  },
};
