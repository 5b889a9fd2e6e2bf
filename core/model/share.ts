// The share API's answer to an upload (POST /api/bundles, POST /api/reports): the contract between
// the worker that writes it and the CLI and web app that read it. README.md, "The server".

export interface ShareCreated {
  id: string
  /** The link to paste in a ticket: the web app at /r/<id>. */
  url: string
  /** Returned once; needed to delete the share or attach its missing half. */
  deleteToken: string
  /** ISO 8601. */
  expiresAt: string
  /** True when the server produced the report. */
  analyzed: boolean
  /** Why the server did not analyze the bundle (the client should send the report). */
  reason?: string
  hasReport: boolean
  hasBundle: boolean
  /** True when GET /api/bundles/<id> serves the bundle. */
  shared: boolean
  reportUrl: string
  bundleUrl?: string
}
