-- A neutralized copy speaks to no production collection agency: no API key survives, production agencies are archived
UPDATE nordic_collection_agency
   SET api_key = NULL,
       active = CASE WHEN environment = 'production' THEN FALSE ELSE active END;
