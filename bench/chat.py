"""stub"""
async def run(**kw):
    return {}
