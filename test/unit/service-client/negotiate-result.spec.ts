/**
 * `negotiateResultProblem`: the 14 accepted and refused shapes of a negotiate `resolve` result,
 * each refusal named.
 */
import { negotiateResultProblem } from '../../../lib/service-client/negotiate-result.js';

describe('negotiateResultProblem', () => {
  it.each([
    [{ userId: 'alice' }],
    [{ userId: 'alice', roles: [], groups: ['room1'], expirationTimeInMinutes: 1 }],
    [{ userId: 'alice', clientProtocol: 'mqtt' }],
    [{ userId: 'alice', roles: undefined }],
  ])('accepts %j', result => {
    expect(negotiateResultProblem(result)).toBeUndefined();
  });

  it.each([
    [null, 'expected { userId, roles?, groups?, expirationTimeInMinutes? } or null, got object'],
    [[], 'expected { userId, roles?, groups?, expirationTimeInMinutes? } or null, got an array'],
    [{}, 'userId must be a non-empty string'],
    [{ userId: '' }, 'userId must be a non-empty string'],
    [{ userId: 'a', groups: [''] }, 'groups must be an array of non-empty strings'],
    [{ userId: 'a', roles: [1] }, 'roles must be an array of non-empty strings'],
    [
      { userId: 'a', expirationTimeInMinutes: 2.5 },
      'expirationTimeInMinutes must be a positive integer',
    ],
    [
      { userId: 'a', expirationTimeInMinutes: '5' },
      'expirationTimeInMinutes must be a positive integer',
    ],
    [
      { userId: 'a', clientProtocol: 'signalr' },
      'clientProtocol must be "default", "mqtt" or "socketio"',
    ],
    [{ userId: 'a', sub: 'b' }, 'unknown key "sub"'],
  ])('refuses %j: %s', (result, problem) => {
    expect(negotiateResultProblem(result)).toBe(problem);
  });
});
