/**
 * Hash routing (`#/registry/adapters/ad_1`): the server serves one page at `/`, and links,
 * reloads and the back button work without any server-side route per page.
 */
import { useEffect, useState } from 'preact/hooks';

export interface Location { readonly parts: string[]; readonly params: URLSearchParams }

function parse(hash: string): Location {
  const [path, search = ''] = hash.replace(/^#\/?/, '').split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(search) };
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(() => parse(location.hash));
  useEffect(() => {
    const update = () => setLoc(parse(location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return loc;
}

/** `href('registry', 'adapters', id)` -> '#/registry/adapters/<id>'. */
export function href(...parts: (string | number)[]): string {
  return `#/${parts.map((p) => encodeURIComponent(String(p))).join('/')}`;
}

export function navigate(to: string): void {
  location.hash = to.replace(/^#/, '');
}
