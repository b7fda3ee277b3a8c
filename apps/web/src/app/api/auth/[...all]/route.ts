// better-auth's endpoints (sign-up, sign-in, sign-out, session) under /api/auth/*. The
// auth instance needs the server context's database, so it is looked up per request.
import { getAuth } from "@/server/auth";

export const dynamic = "force-dynamic";

function handler(request: Request): Promise<Response> {
  return getAuth().handler(request);
}

export { handler as GET, handler as POST };
