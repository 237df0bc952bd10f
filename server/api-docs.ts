/**
 * Interactive API documentation at /docs: Swagger UI from the swagger-ui-dist package (served
 * from node_modules, no CDN) over /openapi.json. The page and its start-up script are ours; the
 * script is a file rather than inline so that a strict Content-Security-Policy can allow it.
 * These are static pages, not API operations, so they sit beside the route table, not in it.
 */
import express from 'express';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const getAbsoluteFSPath = require('swagger-ui-dist/absolute-path.js') as () => string;

export const API_DOCS_PATH = '/docs';

const PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <title>LiFT zoo API</title>
  <link rel="stylesheet" href="./swagger-ui.css">
  <link rel="icon" type="image/png" href="./favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="./swagger-ui-bundle.js"></script>
  <script src="./start.js"></script>
</body>
</html>
`;

/** The API key goes in "Authorize" (bearer); reads work without it. */
const START = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis],
});
`;

export function apiDocs(): express.Router {
  const router = express.Router({ strict: true });
  router.get('/', (req, res) => {
    // Relative asset URLs need the trailing slash.
    if (!req.originalUrl.split('?')[0].endsWith('/')) return res.redirect(301, `${API_DOCS_PATH}/`);
    res.type('html').send(PAGE);
  });
  router.get('/start.js', (_req, res) => { res.type('js').send(START); });
  router.use(express.static(getAbsoluteFSPath(), { index: false, maxAge: '1h' }));
  return router;
}
