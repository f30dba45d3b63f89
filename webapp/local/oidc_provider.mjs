// A real OpenID Connect provider on loopback for local mode and the tests: panva's
// oidc-provider with its development interactions (a login page where any login name
// works, then a consent page). Started by webapp/local/oidc.py; never used on a stage.
//
// Configuration: a JSON object in the environment variable MEDIAHUB_OIDC_PROVIDER_CONFIG,
// or as the first argument:
//   {"port": 0,                       // 0: choose a free port
//    "client_id": "...", "client_secret": "...",
//    "redirect_uris": ["http://127.0.0.1:5000/signin/callback"],
//    "post_logout_redirect_uris": [],  // optional
//    "groups": {"admin@example.com": ["mediahub-admins"]},   // optional, by login
//    "cookie_keys": ["..."],           // signs the provider's own cookies
//    "pkce_required": true,            // optional, default true (S256 only)
//    "exit_with_stdin": true}          // optional: exit when stdin closes (the launcher sets it)
//
// Once it answers, it prints exactly one line on stdout:  READY http://127.0.0.1:<port>
// (oidc-provider may print NOTICE lines on stdout before it). With exit_with_stdin it exits
// when its stdin closes, so it never outlives the Python process that started it.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import * as http from 'node:http';

import Provider from 'oidc-provider';

const raw = process.env.MEDIAHUB_OIDC_PROVIDER_CONFIG || process.argv[2];
if (!raw) {
  console.error('oidc_provider: no configuration (set MEDIAHUB_OIDC_PROVIDER_CONFIG or pass JSON as the first argument)');
  process.exit(2);
}
const config = JSON.parse(raw);
for (const key of ['client_id', 'client_secret', 'redirect_uris']) {
  if (!config[key] || (key === 'redirect_uris' && !config[key].length)) {
    console.error(`oidc_provider: configuration lacks ${key}`);
    process.exit(2);
  }
}

const groupsByLogin = new Map(
  Object.entries(config.groups || {}).map(([login, groups]) => [login.trim().toLowerCase(), groups]),
);

// Any login name is an account; the name is its id.
function findAccount(ctx, id) {
  const email = id.trim().toLowerCase();
  return {
    accountId: id,
    async claims() {
      return {
        sub: id,
        email,
        email_verified: true,
        name: email.split('@')[0],
        groups: groupsByLogin.get(email) || [],
      };
    },
  };
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'mediahub-local', use: 'sig', alg: 'RS256' };

const server = http.createServer();
server.listen(Number(config.port || 0), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const minutes = (n) => n * 60;

  const provider = new Provider(issuer, {
    clients: [{
      client_id: config.client_id,
      client_secret: config.client_secret,
      redirect_uris: config.redirect_uris,
      post_logout_redirect_uris: config.post_logout_redirect_uris || [],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    }],
    findAccount,
    scopes: ['openid', 'email', 'profile'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'groups'],
    },
    // The site reads who signed in from the ID token, so it carries the scopes' claims
    // (by default oidc-provider keeps them for the userinfo endpoint only).
    conformIdTokenClaims: false,
    pkce: { required: () => config.pkce_required !== false },
    jwks: { keys: [signingKey] },
    cookies: {
      // Cookies ignore ports: on 127.0.0.1 the site would otherwise see the provider's
      // cookies under generic names; these cannot clash with the site's own.
      names: {
        session: 'mediahub_oidc_session',
        interaction: 'mediahub_oidc_interaction',
        resume: 'mediahub_oidc_resume',
      },
      keys: config.cookie_keys && config.cookie_keys.length ? config.cookie_keys : [randomBytes(32).toString('hex')],
    },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    clientBasedCORS: () => false,
    ttl: {
      AccessToken: minutes(10),
      AuthorizationCode: 60,
      BackchannelAuthenticationRequest: minutes(10),
      ClientCredentials: minutes(10),
      DeviceCode: minutes(10),
      Grant: minutes(60),
      IdToken: minutes(10),
      Interaction: minutes(10),
      PreAuthorizedCode: minutes(10),
      RefreshToken: minutes(60),
      Session: minutes(60),
    },
  });

  for (const event of ['server_error', 'authorization.error', 'grant.error', 'end_session.error',
    'userinfo.error', 'introspection.error', 'revocation.error', 'discovery.error', 'jwks.error']) {
    provider.on(event, (...args) => {
      const error = args.find((arg) => arg instanceof Error);
      const detail = error ? `${error.name}: ${error.message}${error.error_description ? ` (${error.error_description})` : ''}` : '';
      console.error(`oidc_provider ${event}: ${detail}`);
    });
  }

  server.on('request', provider.callback());
  process.stdout.write(`READY ${issuer}\n`);
});

server.on('error', (error) => {
  console.error(`oidc_provider: cannot listen on 127.0.0.1:${config.port || 0}: ${error.message}`);
  process.exit(1);
});

function shutdown() {
  server.close();
  server.closeAllConnections?.();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (config.exit_with_stdin) {
  // The parent holds our stdin; when it goes away (even killed), so do we.
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}
