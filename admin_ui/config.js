// Where the Audit Log API is. `make local` serves its own copy of this file pointing at
// the local stack; a deployment serves one pointing at its stage's URL.
export const API_BASE = "http://127.0.0.1:3000";
